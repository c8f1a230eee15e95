"""gunicorn settings for `make soak`: one line per answered request, its completion time
and status, appended to $SOAK_STATUS_LOG, so the report can say to the request when the
site stopped and started answering 200 around the PostgreSQL restart."""

import os
import time

_status_log = os.environ["SOAK_STATUS_LOG"]


def post_request(worker, req, environ, resp):
    with open(_status_log, "a") as log:  # small appends from both workers stay whole
        log.write(f"{time.time():.4f} {resp.status_code}\n")
