"""Deregistration (注销): decides whether an enterprise may close, runs the public notice of a
简易注销 or the creditor notice of a 一般注销, takes objections and the liquidation report."""
