"""Task 2 mistake: a recursive topological sort, which overflows Python's stack on a long chain."""

TASK = 2
EXPECT = ["a chain of 10000 ops: out.backward()", "RecursionError", "explicit stack"]


def patch(tt):
    def topological_order(root):
        order, visited = [], set()

        def visit(node):
            if id(node) in visited:
                return
            visited.add(id(node))
            for child in node._prev:
                visit(child)
            order.append(node)

        visit(root)
        return order

    tt.value.topological_order = topological_order
    tt.tensor.topological_order = topological_order
    tt.topological_order = topological_order
