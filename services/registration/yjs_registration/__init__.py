"""Market regulation (市场监管): registers enterprises and their names."""
