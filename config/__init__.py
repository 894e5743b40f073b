"""Node configuration files and their loaders."""
