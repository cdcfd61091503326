"""The course wing: what the notebooks show and the tools around them.

``plotting`` (pictures), ``widgets`` (the explorers), ``exercises`` (the ``check_…``
functions), ``self_check`` (the three closing questions of every lesson), ``figures``
(remakes img/), ``benchmark`` (timings), and the tools run as
``python -m pooling_lib.course.<tool>``: ``export`` (pages, offline and live slides),
``navigation`` (badges and links), ``pacing`` (lesson lengths), with ``repo`` naming the
repository's folders and address; ``run_order`` adds a hint to a NameError in a cell run too
early. It uses the core; the core never uses it.
"""
from . import run_order

run_order.install()
