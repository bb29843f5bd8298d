"""The rules API's client side: ``http`` (a typed HTTP client) and ``cli`` (the ``logflow rules`` commands).

Nothing is imported here, so that registering the CLI's commands does not import the HTTP stack.
"""
