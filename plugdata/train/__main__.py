"""`python -m plugdata.train` and `accelerate launch -m plugdata.train`."""

import sys

from plugdata.errors import PlugdataError
from plugdata.train import main

try:
    main()
except PlugdataError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
