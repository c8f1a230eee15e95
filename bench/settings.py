"""Settings for the benchmark's servers (`make bench`, bench/harness.py): the production
settings exactly, with the benchmark's URL module (the site's URLs plus one bare view) and
static files collected into the run's own folder."""

import os

from clinic_site.settings import *  # noqa: F403
from clinic_site.settings import STATIC_ROOT as _SITE_STATIC_ROOT

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT") or _SITE_STATIC_ROOT
