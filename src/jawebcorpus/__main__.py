from jawebcorpus.pipelines.cli import main

raise SystemExit(main())
