"""The loss-function library: each file is one family of losses, functions and Modules."""
