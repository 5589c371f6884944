"""`bandcoach chat`: talk to the real bot in a terminal, offline, through the fake Telegram."""
