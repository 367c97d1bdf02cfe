"""The teaching pages' computations: dtypes, the autograd walkthrough, GPU operations."""
