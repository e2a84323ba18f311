from aim_catalog.cli import main

main()
