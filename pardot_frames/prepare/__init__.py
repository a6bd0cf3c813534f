"""Pure preparation, no I/O: input frames, validation, payloads and the partitioner.

Rows in, plain values out: a ``Validated`` (valid rows, payloads, rejected rows as a frame) and
batches of row numbers. Nothing here talks to the network or the disk.
"""
