from codexbar.cli import main

raise SystemExit(main())
