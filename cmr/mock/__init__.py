"""The mock CMR back office: a separate process with its own storage (a SQLite file and the PDFs in
its data directory). It never imports the portal's models nor reads the portal's database; it shares
only the pure rules of the exchange (``cmr.rules``) with the portal.

Run it with ``python -m cmr.mock --port 8001 --data-dir var/cmr_mock`` or
``python manage.py run_cmr_mock --port 8001``; ``python -m cmr.mock --help`` lists the commands
(serve, advance, list, stats) and the environment variables.
"""
