"""Segments without Pinpoint: a Pinpoint segment definition (`SegmentResponse` / `WriteSegmentRequest`) evaluated
over endpoint export records, streamed, into a pinrec segment file `pinrec send --segment` reads.

`definition` parses and checks a definition (every unsupported feature refused at once, before anything is read),
`evaluate` decides one endpoint, `build` streams the exports through it.
"""
