"""The "Matmul on the GPU" panel (:mod:`.panel`) and the views it composes.

Nothing is imported here, so that importing one view does not build them all.
"""
