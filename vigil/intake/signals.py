from django.dispatch import Signal

# Sent inside the transaction that stored a report. The incidents stage listens (it reads
# intake; intake never imports a later stage). Arguments: report.
report_received = Signal()
