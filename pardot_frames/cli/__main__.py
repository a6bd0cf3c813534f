import sys

from pardot_frames.cli.main import main

sys.exit(main())
