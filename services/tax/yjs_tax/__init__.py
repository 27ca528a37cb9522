"""The tax authority (税务): registers new taxpayers and grants them invoices."""
