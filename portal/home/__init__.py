"""The home page, its Comunicado, and the pages every signed-in user shares."""
