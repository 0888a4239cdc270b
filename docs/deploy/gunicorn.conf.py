"""gunicorn settings for Håndboka: used by `make run`, by the cluster test and in production.

Everything that differs between machines comes from the environment:

- GUNICORN_BIND (default 127.0.0.1:8000): where this app server listens; nginx proxies to it.
- WEB_CONCURRENCY (default 3): worker processes; about 2 × cores on a dedicated machine.
- GUNICORN_TIMEOUT (default 30): a request taking longer is cut off. No request does slow work:
  e-mail goes through the outbox and the worker (`manage.py procrastinate worker`).

The control socket (gunicorn ≥ 23) is off: it lives at one path per user, so a second gunicorn on
the same machine would take it over, and nothing here uses it.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 5
# Database connections are reused for DB_CONN_MAX_AGE seconds; a worker that lives long keeps
# them warm. Restart workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# One access line a request, on stdout (journald): time, method, path WITHOUT the query string
# (search words can be names), status, bytes, milliseconds and the request id the app returns, so a
# line can be matched with the app's JSON log. No client address (it is nginx's anyway), no
# referrer (it carries the previous page's query string), no user agent, no user.
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
control_socket_disable = True
wsgi_app = "handbook.wsgi"
