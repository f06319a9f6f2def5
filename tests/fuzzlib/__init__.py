"""A differential fuzzer: random programs of minigrad ops, run in minigrad and in PyTorch.

``program``  the program representation, the two runtimes (one per library) and the comparison;
``ops``      the op generators that grow a program one step at a time (validated in torch);
``known``    divergences already reported and being fixed (``KNOWN_DIVERGENCES``);
``__main__`` ``python -m tests.fuzzlib``: the long run behind ``make fuzz``.
"""
