from orion.cli.main import main

main()
