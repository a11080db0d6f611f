"""Widgets and live figures, the only part of kafkalab (with the chapter modules) that imports ipywidgets or
plotly when it loads: the sizing calculator, the late-data replay, the lag monitor and the live dashboard, and
:mod:`~kafkalab.widgets.outputs`, the one way they redraw.

Live updates need a running kernel (JupyterLab or Binder); the book shows the state saved with the notebook.
"""
