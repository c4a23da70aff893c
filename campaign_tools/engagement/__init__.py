"""Engagement back to the recommender: item-level click tracking in links (`links`), what a send must remember to
forward a click (`store`, written by `recording`), the forwarding of clicks and conversions to Amazon Personalize
`PutEvents` (`forward`), and the per-treatment attribution figures of the campaign report (`attribution`)."""
