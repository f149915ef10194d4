"""rnntag serve: the ASGI app, its request batching, background jobs, limits, the page, and
running it under uvicorn.
"""
