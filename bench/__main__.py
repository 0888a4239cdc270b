"""`python -m bench`: run every benchmark (for now the manager dashboards)."""

from bench.managers import main

if __name__ == "__main__":
    main()
