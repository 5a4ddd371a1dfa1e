from django.dispatch import Signal

# Sent inside the transaction that opened a new incident from a report (clustering). The
# responders stage listens and pages the on-call verifiers once the transaction commits;
# incidents never imports a later stage. Arguments: incident.
incident_opened = Signal()

# Sent inside the transaction in which a staff member closed an incident. The responders
# stage ends the volunteers' assignments on it. Arguments: incident, at, acting_user.
incident_closed = Signal()

# Sent inside the transaction that merged a duplicate (`source`, now closed) into `into`. The
# responders stage moves the volunteers working the duplicate onto the incident that stays.
# Arguments: source, into, at, acting_user.
incidents_merged = Signal()
