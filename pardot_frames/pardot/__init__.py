"""The Pardot API client: a transport seam, login, retries and the sorting of answers, and one module
per Pardot object (prospects, list memberships) with every endpoint path in ``endpoints``.

It knows nothing of jobs, journals or frames: callers hand it requests and read its replies.
"""
