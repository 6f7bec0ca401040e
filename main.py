"""MLP Workbench: ``python main.py [FILE]`` opens the window;
``python main.py run FILE --out RESULT.json`` trains headless.  See ``--help``."""

import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
