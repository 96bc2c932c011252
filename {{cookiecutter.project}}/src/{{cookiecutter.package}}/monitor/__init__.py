"""Monitor: is the serving model still behaving?

reference.py  the profile of "normal", written with every model (evaluate stage)
log_writer.py the service's prediction log (stdlib only: it runs in the server)
log_reader.py rows of a time window from local or S3 log files
drift.py      PSI and KS of inputs and predictions against the reference
quality.py    data quality, estimated and realized model quality
labels.py     late labels, joined to predictions by id
report.py     the report's JSON schema and its Markdown rendering
run.py        `monitor <env>`: one window, one report
hysteresis.py, alert_state.py, alerts.py, report_reader.py
              `alert <env>`: one issue per environment and signal family
retrain.py, retrain_data.py
              `retrain <env>`: the one retrain pull request, when quality alerts
"""
