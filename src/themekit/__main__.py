from themekit.cli import main

main()
