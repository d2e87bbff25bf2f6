import sys

from mosim.cli import main

sys.exit(main())
