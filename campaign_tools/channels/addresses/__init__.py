"""Each channel's recipient addresses in the one spelling suppression lists key them by: one lean module per channel
(standard library only), one registry. A channel's module in `campaign_tools.channels` names its own here (its
`address` attribute); the suppression lists, the events function and the unsubscribe function ask this registry,
because their Lambda zips ship this package without the rest of the channels (pydantic, templates, rendering)."""
