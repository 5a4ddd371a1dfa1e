from django.dispatch import Signal

# Sent inside the transaction that stored a report. The incidents stage listens (it reads
# intake; intake never imports a later stage). Arguments: report.
report_received = Signal()

# Sent inside the webhook's transaction when a number texts STOP/BAJA (any case). The alerts
# stage listens and forgets that number's subscriptions. Arguments: phone_index.
sms_opted_out = Signal()

# Sent inside the webhook's transaction when a number chooses its language (LANG ES, IDIOMA
# INGLES). The alerts stage listens so a subscriber's alerts follow. Arguments: phone_index, language.
sms_language_chosen = Signal()
