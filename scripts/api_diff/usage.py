"""Typed usage of the package, as a user's code would write it: kept for `api-diff`, which checks this
file as the base has it with mypy against the new package (`typed_usage.py`). A field removed, or its
type changed so that this code no longer type-checks, is a break the report names by line.

Every annotation states the type the package gives today, so a change to it shows. Nothing here runs:
the typecheck session checks it against the working tree like the rest of scripts/. When a release
changes the API on purpose, update this file with it (the next release is checked against that).
"""

from __future__ import annotations

from leadway_invoices_client import AuthenticatedClient, Deviation, LeadwayError
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import (
    AltType,
    ApiVersion,
    AutoPayment,
    BusinessDetails,
    ContactDetails,
    ErrorResponse,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    SendAction,
    SenderConfiguration,
    SendInvoiceRequest,
    SendInvoiceResponse,
)
from leadway_invoices_client.types import Unset


def build_request() -> SendInvoiceRequest:
    actions: tuple[SendAction, ...] = (
        SendAction.EMAIL,
        SendAction.SMS,
        SendAction.SMS_AND_EMAIL,
        SendAction.SEND_MANUALLY,
    )
    alt_types: tuple[AltType, ...] = (AltType.LOCATION, AltType.ACCOUNT)
    return SendInvoiceRequest(
        alt_id="6578278e879ad2646715ba9c",
        alt_type=alt_types[0],
        user_id="6578278e879ad2646715ba9c",
        action=actions[0],
        live_mode=False,
        sent_from=SenderConfiguration(from_name="Billing", from_email="billing@example.com"),
        auto_payment=AutoPayment(enable=False, payment_method_id="pm_1", customer_id="cus_1", card_id="card_1"),
    )


def read_request(body: SendInvoiceRequest) -> None:
    alt_id: str = body.alt_id
    user_id: str = body.user_id
    action: SendAction = body.action
    alt_type: AltType = body.alt_type
    live_mode: bool = body.live_mode
    sent_from: SenderConfiguration | Unset = body.sent_from
    auto_payment: AutoPayment | Unset = body.auto_payment
    print(alt_id, user_id, action, alt_type, live_mode, sent_from, auto_payment)


def read_invoice(invoice: Invoice) -> None:
    statuses: tuple[InvoiceStatus, ...] = (
        InvoiceStatus.DRAFT,
        InvoiceStatus.SENT,
        InvoiceStatus.PAYMENT_PROCESSING,
        InvoiceStatus.PAID,
        InvoiceStatus.VOID,
        InvoiceStatus.PARTIALLY_PAID,
    )
    invoice_id: str = invoice.id
    status: InvoiceStatus | str = invoice.status
    live_mode: bool | Unset = invoice.live_mode
    amount_paid: float | Unset = invoice.amount_paid
    alt_id: str | Unset = invoice.alt_id
    alt_type: str | Unset = invoice.alt_type
    name: str | Unset = invoice.name
    business: BusinessDetails | Unset = invoice.business_details
    number: float | str | Unset = invoice.invoice_number
    currency: str | Unset = invoice.currency
    contact: ContactDetails | Unset = invoice.contact_details
    issue_date: str | Unset = invoice.issue_date
    due_date: str | Unset = invoice.due_date
    items: list[InvoiceItem] | Unset = invoice.invoice_items
    total: float | Unset = invoice.total
    title: str | Unset = invoice.title
    amount_due: float | Unset = invoice.amount_due
    created_at: str | Unset = invoice.created_at
    updated_at: str | Unset = invoice.updated_at
    deviations: tuple[Deviation, ...] = invoice.deviations
    print(statuses, invoice_id, status, live_mode, amount_paid, alt_id, alt_type, name, business, number)
    print(currency, contact, issue_date, due_date, items, total, title, amount_due, created_at, updated_at)
    print(deviations)
    if not isinstance(items, Unset):
        for item in items:
            qty: float | Unset = item.qty
            amount: float | Unset = item.amount
            item_name: str | Unset = item.name
            print(qty, amount, item_name)


def read_error(error: ErrorResponse) -> None:
    status_code: int | Unset = error.status_code
    message: list[str] | str | Unset = error.message
    print(status_code, message)


def send(client: AuthenticatedClient) -> None:
    body = build_request()
    version: ApiVersion = ApiVersion.V2021_07_28
    try:
        sent: SendInvoiceResponse = send_invoice.sync("6578278e879ad2646715ba9c", client=client, body=body)
    except LeadwayError as exc:
        print(exc.status_code)
        return
    read_invoice(sent.invoice)
    detailed = send_invoice.sync_detailed("6578278e879ad2646715ba9c", client=client, body=body, version=version)
    parsed: ErrorResponse | SendInvoiceResponse | None = detailed.parsed
    status_code: int = detailed.status_code
    print(parsed, status_code)
    invoice: Invoice = get_invoice.sync(
        "6578278e879ad2646715ba9c", client=client, alt_id=body.alt_id, alt_type=AltType.LOCATION, version=version
    )
    read_invoice(invoice)


async def send_async(client: AuthenticatedClient) -> None:
    sent: SendInvoiceResponse = await send_invoice.asyncio(
        "6578278e879ad2646715ba9c", client=client, body=build_request()
    )
    read_invoice(sent.invoice)
    invoice: Invoice = await get_invoice.asyncio(
        "6578278e879ad2646715ba9c", client=client, alt_id="6578278e879ad2646715ba9c", alt_type=AltType.LOCATION
    )
    read_invoice(invoice)
