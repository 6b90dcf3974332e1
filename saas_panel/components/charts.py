"""Time-series charts for CPU and memory (recharts, no animation for live data)."""

from __future__ import annotations

import reflex as rx


def usage_chart(data, key: str, title: str, unit: str, color: str, chart_id: str, sync_id: str = "usage") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, size="2", weight="medium", color_scheme="gray"),
            rx.cond(
                data.length() > 0,
                rx.recharts.area_chart(
                    rx.recharts.area(
                        data_key=key,
                        stroke=rx.color(color, 9),
                        fill=rx.color(color, 5),
                        type_="monotone",
                        is_animation_active=False,
                        unit=unit,
                    ),
                    rx.recharts.x_axis(data_key="t", min_tick_gap=40, tick={"fontSize": 11}),
                    rx.recharts.y_axis(unit=unit, width=56, tick={"fontSize": 11}),
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=rx.color("gray", 5)),
                    rx.recharts.graphing_tooltip(),
                    data=data,
                    sync_id=sync_id,
                    height=200,
                    width="100%",
                ),
                rx.center(rx.text("No samples yet.", size="2", color_scheme="gray"), height="200px"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id=chart_id,
    )
