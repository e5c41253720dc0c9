"""``python -m carewatch.cli``: how ``carewatch up`` starts its web server child process."""

from carewatch.cli import main

main()
