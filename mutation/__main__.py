"""`python -m mutation [PATH...]`: see `mutation.run`."""

import sys

from mutation.run import main

sys.exit(main(sys.argv[1:]))
