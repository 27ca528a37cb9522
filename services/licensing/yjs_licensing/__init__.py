"""Industry licensing (行业准营): permits by their 证照分离 mode, one comprehensive permit per
industry (一业一证), commitments (告知承诺) and their post-issuance checks."""
