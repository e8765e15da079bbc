"""`python -m plugdata.train` and `accelerate launch -m plugdata.train`."""

import sys

from plugdata.errors import Interrupted, PlugdataError
from plugdata.train import main

try:
    main()
except PlugdataError as exc:
    stopped = isinstance(exc, Interrupted)
    print(f"{'stopped' if stopped else 'error'}: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code if isinstance(exc, Interrupted) else 2)
