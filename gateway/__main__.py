"""`python -m gateway`: run the websocket gateway."""

from gateway.cli import main

main()
