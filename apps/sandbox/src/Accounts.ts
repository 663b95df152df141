/**
 * The sandbox's test accounts (documented in the README). Passwords are test fixtures, not secrets.
 */
export interface Account {
  readonly sub: string
  readonly login: string
  readonly password: string
  readonly email: string
  readonly name: string
}

export const accounts: ReadonlyArray<Account> = [
  {
    sub: "11111111-1111-4111-a111-111111111111",
    login: "jane@example.com",
    password: "sandbox",
    email: "jane@example.com",
    name: "Jane Doe"
  },
  {
    sub: "33333333-3333-4333-a333-333333333333",
    login: "sam@example.com",
    password: "sandbox",
    email: "sam@example.com",
    name: "Sam Roe"
  }
]

/** The account automatic login signs in as. */
export const defaultAccount: Account = accounts[0] as Account

export const findAccountById = (sub: string): Account | undefined => accounts.find((a) => a.sub === sub)

export const findAccountByLogin = (login: string, password: string): Account | undefined =>
  accounts.find((a) => a.login === login && a.password === password)
