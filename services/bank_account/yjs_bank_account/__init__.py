"""The bank (开户银行): opens each new enterprise's basic deposit account (基本存款账户)."""
