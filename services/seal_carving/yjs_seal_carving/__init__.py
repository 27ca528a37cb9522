"""Public security (公安): carves an enterprise's seals and files each one (印章备案)."""
