from orionctl.cli.main import main

main()
