"""Reports on stored data: the transactions CSV export, SVG charts and the series they draw."""
