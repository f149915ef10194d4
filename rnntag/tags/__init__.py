"""Tag schemes (IOB1, IOB2, BIOES, IOE), their checks, the spans they encode and the
transitions they allow.
"""
