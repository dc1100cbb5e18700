"""What an office does to run its campaigns (campaigns, units and contacts, invite letters),
one service layer that the CLI and the web console both call; every change is recorded."""
