from {{ cookiecutter.package }}.cli import main

main()
