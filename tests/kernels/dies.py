"""A kernel module whose import ends the worker process, as a crashing driver would."""

import os


def make_kernel(block):
    os._exit(7)
