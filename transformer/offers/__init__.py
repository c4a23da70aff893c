"""Offer selection: the best coupon per recipient, chosen inside the transformer.

Pure modules (model, eligibility, scoring, select) hold the rules; `catalog` reads offers, `personalize` is the
only module that talks to AWS (boto3 imported there, lazily), and `engine` runs one batch.
"""
