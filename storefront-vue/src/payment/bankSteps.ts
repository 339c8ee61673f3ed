/**
 * Step-by-step payment instructions, as Indonesian shops print them under a virtual
 * account number or a retail payment code: per bank for ATM, mobile banking and internet
 * banking, per store chain for the cashier, in both languages, with the number and the
 * total filled in. A shopper at an ATM cannot ask which menu holds "virtual account".
 *
 * Banks are those of the demo channels (svc-payment's seed: BCA, BNI, BRI, Mandiri,
 * Permata) and the stores Alfamart and Indomaret; any other bank or store gets steps
 * that hold at every bank or cashier.
 */
import { fillMessage, type Locale } from "@/i18n";

export type BankingMethod = "atm" | "mobile" | "internet";

export const BANKING_METHODS: readonly BankingMethod[] = ["atm", "mobile", "internet"];

/** One way of paying, with its title ("ATM BCA", "BCA mobile (m-BCA)") and its numbered steps. */
export interface PaymentGuide {
  method: BankingMethod;
  title: string;
  steps: string[];
}

/** What the steps fill in. */
export interface VirtualAccountFacts {
  bankName: string;
  accountNumber: string;
  accountName: string;
  /** The total as the shopper reads it ("Rp 27.000"). */
  total: string;
}

export interface RetailFacts {
  outletName: string;
  paymentCode: string;
  total: string;
}

type Text = Record<Locale, string>;
interface MethodSteps {
  title: Text;
  steps: Record<Locale, readonly string[]>;
}
type BankSteps = Record<BankingMethod, MethodSteps>;

const CHECK_ID = "Periksa nama ({name}) dan jumlah {total}, lalu konfirmasi.";
const CHECK_EN = "Check the name ({name}) and the amount {total}, then confirm.";
const RECEIPT_ID = "Simpan struk atau bukti transfer sebagai bukti pembayaran.";
const RECEIPT_EN = "Keep the receipt or the transfer confirmation as proof of payment.";

const BANKS: Readonly<Record<string, BankSteps>> = {
  bca: {
    atm: {
      title: { id: "ATM BCA", en: "BCA ATM" },
      steps: {
        id: [
          "Masukkan kartu ATM BCA dan PIN Anda.",
          "Pilih Transaksi Lainnya > Transfer > ke Rek BCA Virtual Account.",
          "Masukkan nomor virtual account {va}, lalu pilih Benar.",
          "Periksa nama ({name}) dan jumlah {total}, lalu pilih Ya.",
          RECEIPT_ID,
        ],
        en: [
          "Insert your BCA ATM card and enter your PIN.",
          "Choose Other Transactions > Transfer > To BCA Virtual Account.",
          "Enter the virtual account number {va}, then choose Correct.",
          "Check the name ({name}) and the amount {total}, then choose Yes.",
          RECEIPT_EN,
        ],
      },
    },
    mobile: {
      title: { id: "BCA mobile (m-BCA)", en: "BCA mobile (m-BCA)" },
      steps: {
        id: [
          "Buka aplikasi BCA mobile, pilih m-BCA, lalu masukkan kode akses.",
          "Pilih m-Transfer > BCA Virtual Account.",
          "Masukkan nomor virtual account {va}, lalu pilih Send.",
          CHECK_ID,
          "Masukkan PIN m-BCA untuk menyelesaikan pembayaran.",
        ],
        en: [
          "Open the BCA mobile app, choose m-BCA and enter your access code.",
          "Choose m-Transfer > BCA Virtual Account.",
          "Enter the virtual account number {va}, then choose Send.",
          CHECK_EN,
          "Enter your m-BCA PIN to complete the payment.",
        ],
      },
    },
    internet: {
      title: { id: "KlikBCA", en: "KlikBCA" },
      steps: {
        id: [
          "Masuk ke KlikBCA Individual.",
          "Pilih Transfer Dana > Transfer ke BCA Virtual Account.",
          "Masukkan nomor virtual account {va}, lalu pilih Lanjutkan.",
          CHECK_ID,
          "Masukkan respon KeyBCA appli 1, lalu pilih Kirim.",
        ],
        en: [
          "Log in to KlikBCA Individual.",
          "Choose Fund Transfer > Transfer to BCA Virtual Account.",
          "Enter the virtual account number {va}, then choose Continue.",
          CHECK_EN,
          "Enter the KeyBCA appli 1 response, then choose Send.",
        ],
      },
    },
  },
  bni: {
    atm: {
      title: { id: "ATM BNI", en: "BNI ATM" },
      steps: {
        id: [
          "Masukkan kartu ATM BNI dan PIN Anda.",
          "Pilih Menu Lainnya > Transfer > Virtual Account Billing.",
          "Masukkan nomor virtual account {va}, lalu pilih Benar.",
          CHECK_ID,
          RECEIPT_ID,
        ],
        en: [
          "Insert your BNI ATM card and enter your PIN.",
          "Choose Other Menu > Transfer > Virtual Account Billing.",
          "Enter the virtual account number {va}, then choose Correct.",
          CHECK_EN,
          RECEIPT_EN,
        ],
      },
    },
    mobile: {
      title: { id: "BNI Mobile Banking", en: "BNI Mobile Banking" },
      steps: {
        id: [
          "Buka aplikasi BNI Mobile Banking dan masuk.",
          "Pilih Transfer > Virtual Account Billing.",
          "Masukkan nomor virtual account {va}, lalu pilih Lanjut.",
          CHECK_ID,
          "Masukkan password transaksi untuk menyelesaikan pembayaran.",
        ],
        en: [
          "Open the BNI Mobile Banking app and log in.",
          "Choose Transfer > Virtual Account Billing.",
          "Enter the virtual account number {va}, then choose Next.",
          CHECK_EN,
          "Enter your transaction password to complete the payment.",
        ],
      },
    },
    internet: {
      title: { id: "BNI Internet Banking", en: "BNI Internet Banking" },
      steps: {
        id: [
          "Masuk ke BNI Internet Banking.",
          "Pilih Transfer > Virtual Account Billing.",
          "Masukkan nomor virtual account {va}, lalu pilih Lanjut.",
          CHECK_ID,
          "Masukkan kode otentikasi token, lalu pilih Proses.",
        ],
        en: [
          "Log in to BNI Internet Banking.",
          "Choose Transfer > Virtual Account Billing.",
          "Enter the virtual account number {va}, then choose Next.",
          CHECK_EN,
          "Enter the authentication code from your token, then choose Process.",
        ],
      },
    },
  },
  bri: {
    atm: {
      title: { id: "ATM BRI", en: "BRI ATM" },
      steps: {
        id: [
          "Masukkan kartu ATM BRI dan PIN Anda.",
          "Pilih Transaksi Lain > Pembayaran > Lainnya > BRIVA.",
          "Masukkan nomor BRIVA {va}, lalu pilih Benar.",
          "Periksa nama ({name}) dan jumlah {total}, lalu pilih Ya.",
          RECEIPT_ID,
        ],
        en: [
          "Insert your BRI ATM card and enter your PIN.",
          "Choose Other Transactions > Payment > Others > BRIVA.",
          "Enter the BRIVA number {va}, then choose Correct.",
          "Check the name ({name}) and the amount {total}, then choose Yes.",
          RECEIPT_EN,
        ],
      },
    },
    mobile: {
      title: { id: "BRImo", en: "BRImo" },
      steps: {
        id: [
          "Buka aplikasi BRImo dan masuk.",
          "Pilih BRIVA.",
          "Masukkan nomor BRIVA {va}, lalu pilih Lanjutkan.",
          CHECK_ID,
          "Masukkan PIN BRImo untuk menyelesaikan pembayaran.",
        ],
        en: [
          "Open the BRImo app and log in.",
          "Choose BRIVA.",
          "Enter the BRIVA number {va}, then choose Continue.",
          CHECK_EN,
          "Enter your BRImo PIN to complete the payment.",
        ],
      },
    },
    internet: {
      title: { id: "Internet Banking BRI", en: "BRI Internet Banking" },
      steps: {
        id: [
          "Masuk ke Internet Banking BRI.",
          "Pilih Pembayaran > BRIVA.",
          "Masukkan nomor BRIVA {va}, lalu pilih Kirim.",
          CHECK_ID,
          "Masukkan password dan kode mToken, lalu pilih Kirim.",
        ],
        en: [
          "Log in to BRI Internet Banking.",
          "Choose Payment > BRIVA.",
          "Enter the BRIVA number {va}, then choose Send.",
          CHECK_EN,
          "Enter your password and the mToken code, then choose Send.",
        ],
      },
    },
  },
  mandiri: {
    atm: {
      title: { id: "ATM Mandiri", en: "Mandiri ATM" },
      steps: {
        id: [
          "Masukkan kartu ATM Mandiri dan PIN Anda.",
          "Pilih Bayar/Beli > Lainnya > Multi Payment.",
          "Masukkan kode perusahaan {company} (5 angka pertama nomor virtual account), lalu pilih Benar.",
          "Masukkan nomor virtual account {va}, lalu pilih Benar.",
          "Periksa nama ({name}) dan jumlah {total}, tekan 1, lalu pilih Ya.",
          RECEIPT_ID,
        ],
        en: [
          "Insert your Mandiri ATM card and enter your PIN.",
          "Choose Pay/Buy > Others > Multi Payment.",
          "Enter the company code {company} (the first 5 digits of the virtual account number), then choose Correct.",
          "Enter the virtual account number {va}, then choose Correct.",
          "Check the name ({name}) and the amount {total}, press 1, then choose Yes.",
          RECEIPT_EN,
        ],
      },
    },
    mobile: {
      title: { id: "Livin' by Mandiri", en: "Livin' by Mandiri" },
      steps: {
        id: [
          "Buka aplikasi Livin' by Mandiri dan masuk.",
          "Pilih Bayar > Buat Pembayaran Baru > Multipayment.",
          "Pilih penyedia jasa dengan kode {company}, lalu masukkan nomor virtual account {va}.",
          CHECK_ID,
          "Masukkan PIN Livin' untuk menyelesaikan pembayaran.",
        ],
        en: [
          "Open the Livin' by Mandiri app and log in.",
          "Choose Pay > New Payment > Multipayment.",
          "Choose the service provider with code {company}, then enter the virtual account number {va}.",
          CHECK_EN,
          "Enter your Livin' PIN to complete the payment.",
        ],
      },
    },
    internet: {
      title: { id: "Mandiri Internet Banking", en: "Mandiri Internet Banking" },
      steps: {
        id: [
          "Masuk ke Mandiri Internet Banking.",
          "Pilih Bayar > Multi Payment.",
          "Pilih penyedia jasa dengan kode {company}, lalu masukkan nomor virtual account {va}.",
          CHECK_ID,
          "Masukkan kode dari token Mandiri, lalu pilih Kirim.",
        ],
        en: [
          "Log in to Mandiri Internet Banking.",
          "Choose Pay > Multi Payment.",
          "Choose the service provider with code {company}, then enter the virtual account number {va}.",
          CHECK_EN,
          "Enter the code from your Mandiri token, then choose Send.",
        ],
      },
    },
  },
  permata: {
    atm: {
      title: { id: "ATM Permata", en: "Permata ATM" },
      steps: {
        id: [
          "Masukkan kartu ATM Permata dan PIN Anda.",
          "Pilih Transaksi Lainnya > Pembayaran > Pembayaran Lainnya > Virtual Account.",
          "Masukkan nomor virtual account {va}, lalu pilih Benar.",
          "Periksa nama ({name}) dan jumlah {total}, lalu pilih Ya.",
          RECEIPT_ID,
        ],
        en: [
          "Insert your Permata ATM card and enter your PIN.",
          "Choose Other Transactions > Payment > Other Payments > Virtual Account.",
          "Enter the virtual account number {va}, then choose Correct.",
          "Check the name ({name}) and the amount {total}, then choose Yes.",
          RECEIPT_EN,
        ],
      },
    },
    mobile: {
      title: { id: "PermataMobile X", en: "PermataMobile X" },
      steps: {
        id: [
          "Buka aplikasi PermataMobile X dan masuk.",
          "Pilih Bayar Tagihan > Virtual Account.",
          "Masukkan nomor virtual account {va}, lalu pilih Lanjut.",
          CHECK_ID,
          "Masukkan kode respons atau PIN untuk menyelesaikan pembayaran.",
        ],
        en: [
          "Open the PermataMobile X app and log in.",
          "Choose Pay Bills > Virtual Account.",
          "Enter the virtual account number {va}, then choose Next.",
          CHECK_EN,
          "Enter the response code or your PIN to complete the payment.",
        ],
      },
    },
    internet: {
      title: { id: "PermataNet", en: "PermataNet" },
      steps: {
        id: [
          "Masuk ke PermataNet.",
          "Pilih Pembayaran > Pembayaran Tagihan > Virtual Account.",
          "Masukkan nomor virtual account {va}, lalu pilih Lanjut.",
          CHECK_ID,
          "Masukkan kode otentikasi dari token, lalu pilih Kirim.",
        ],
        en: [
          "Log in to PermataNet.",
          "Choose Payment > Bill Payment > Virtual Account.",
          "Enter the virtual account number {va}, then choose Next.",
          CHECK_EN,
          "Enter the authentication code from your token, then choose Send.",
        ],
      },
    },
  },
};

/** Any other bank: the menus differ, the facts do not. */
const ANY_BANK: BankSteps = {
  atm: {
    title: { id: "ATM {bank}", en: "{bank} ATM" },
    steps: {
      id: [
        "Masukkan kartu ATM {bank} dan PIN Anda.",
        "Pilih menu Transfer atau Pembayaran, lalu Virtual Account.",
        "Masukkan nomor virtual account {va}.",
        CHECK_ID,
        RECEIPT_ID,
      ],
      en: [
        "Insert your {bank} ATM card and enter your PIN.",
        "Choose Transfer or Payment, then Virtual Account.",
        "Enter the virtual account number {va}.",
        CHECK_EN,
        RECEIPT_EN,
      ],
    },
  },
  mobile: {
    title: { id: "Mobile banking {bank}", en: "{bank} mobile banking" },
    steps: {
      id: [
        "Buka aplikasi mobile banking {bank} dan masuk.",
        "Pilih Transfer atau Bayar, lalu Virtual Account.",
        "Masukkan nomor virtual account {va}.",
        CHECK_ID,
        "Masukkan PIN untuk menyelesaikan pembayaran.",
      ],
      en: [
        "Open the {bank} mobile banking app and log in.",
        "Choose Transfer or Pay, then Virtual Account.",
        "Enter the virtual account number {va}.",
        CHECK_EN,
        "Enter your PIN to complete the payment.",
      ],
    },
  },
  internet: {
    title: { id: "Internet banking {bank}", en: "{bank} internet banking" },
    steps: {
      id: [
        "Masuk ke internet banking {bank}.",
        "Pilih Transfer atau Pembayaran, lalu Virtual Account.",
        "Masukkan nomor virtual account {va}.",
        CHECK_ID,
        "Konfirmasi dengan token atau kode OTP Anda.",
      ],
      en: [
        "Log in to {bank} internet banking.",
        "Choose Transfer or Payment, then Virtual Account.",
        "Enter the virtual account number {va}.",
        CHECK_EN,
        "Confirm with your token or one-time code.",
      ],
    },
  },
};

const RETAIL: Readonly<Record<string, Record<Locale, readonly string[]>>> = {
  alfamart: {
    id: [
      "Datang ke kasir Alfamart, Alfamidi atau Dan+Dan terdekat.",
      "Katakan kepada kasir: “Saya mau bayar tagihan Pasar, kode pembayarannya {code}.”",
      "Kasir menyebutkan jumlah {total}; bayar tunai atau dengan kartu debit.",
      "Simpan struk sebagai bukti pembayaran.",
    ],
    en: [
      "Go to the cashier of any Alfamart, Alfamidi or Dan+Dan.",
      "Tell the cashier: “I want to pay a Pasar bill, the payment code is {code}.”",
      "The cashier asks for {total}; pay in cash or with a debit card.",
      "Keep the receipt as proof of payment.",
    ],
  },
  indomaret: {
    id: [
      "Datang ke kasir Indomaret atau Indomaret Point terdekat.",
      "Katakan kepada kasir: “Saya mau bayar tagihan Pasar, kode pembayarannya {code}.”",
      "Kasir menyebutkan jumlah {total}; bayar tunai atau dengan kartu debit.",
      "Simpan struk sebagai bukti pembayaran.",
    ],
    en: [
      "Go to the cashier of any Indomaret or Indomaret Point.",
      "Tell the cashier: “I want to pay a Pasar bill, the payment code is {code}.”",
      "The cashier asks for {total}; pay in cash or with a debit card.",
      "Keep the receipt as proof of payment.",
    ],
  },
};

const ANY_RETAIL: Record<Locale, readonly string[]> = {
  id: [
    "Datang ke kasir {outlet} terdekat.",
    "Katakan kepada kasir: “Saya mau bayar tagihan Pasar, kode pembayarannya {code}.”",
    "Kasir menyebutkan jumlah {total}; bayar sesuai jumlah itu.",
    "Simpan struk sebagai bukti pembayaran.",
  ],
  en: [
    "Go to the cashier of any {outlet}.",
    "Tell the cashier: “I want to pay a Pasar bill, the payment code is {code}.”",
    "The cashier asks for {total}; pay that amount.",
    "Keep the receipt as proof of payment.",
  ],
};

function key(name: string): string {
  return name.trim().toLowerCase();
}

/** The bank's own menus, if this module knows them. */
function bankMenus(bankName: string): BankSteps | undefined {
  return Object.hasOwn(BANKS, key(bankName)) ? BANKS[key(bankName)] : undefined;
}

/** Whether the bank has its own menus here (else the steps that hold at every bank). */
export function hasBankSteps(bankName: string): boolean {
  return bankMenus(bankName) !== undefined;
}

/** How to pay a virtual account at the bank's ATM, in its app and on its website. */
export function virtualAccountGuides(facts: VirtualAccountFacts, locale: Locale): PaymentGuide[] {
  const steps = bankMenus(facts.bankName) ?? ANY_BANK;
  const values = {
    bank: facts.bankName,
    va: facts.accountNumber,
    name: facts.accountName,
    total: facts.total,
    company: facts.accountNumber.slice(0, 5),
  };
  return BANKING_METHODS.map((method) => ({
    method,
    title: fillMessage(locale, steps[method].title[locale], values),
    steps: steps[method].steps[locale].map((step) => fillMessage(locale, step, values)),
  }));
}

/** What to do at the store's cashier. */
export function retailOutletSteps(facts: RetailFacts, locale: Locale): string[] {
  const outlet = Object.hasOwn(RETAIL, key(facts.outletName)) ? RETAIL[key(facts.outletName)] : undefined;
  const values = { outlet: facts.outletName, code: facts.paymentCode, total: facts.total };
  return (outlet ?? ANY_RETAIL)[locale].map((step) => fillMessage(locale, step, values));
}
